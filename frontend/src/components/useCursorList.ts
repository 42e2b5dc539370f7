import { useInfiniteQuery } from '@tanstack/react-query';
import { api, query } from '../api/client';
import type { Page } from '../api/types';

// useCursorList pages through a list endpoint with its opaque cursor.
export function useCursorList<T>(key: unknown[], path: string | null, params: Record<string, string | undefined> = {}, limit = 50) {
  const q = useInfiniteQuery({
    queryKey: [...key, params],
    enabled: path !== null,
    initialPageParam: '',
    queryFn: ({ pageParam }) => api<Page<T>>('GET', path! + query({ ...params, limit, cursor: pageParam || undefined })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...q, items };
}
