import { useInfiniteQuery } from '@tanstack/react-query';
import { api, query, search, type SearchParams } from '../api/client';
import type { Page } from '../api/types';

// useCursorList pages through a list endpoint with its opaque cursor (GET, filters only).
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

// useSearchList pages through a search: the terms and filters are POSTed to `${list}/search`
// in the body (never in the address), the sealed cursor goes back the same way.
export function useSearchList<T>(key: unknown[], list: string | null, params: SearchParams = {}, limit = 50) {
  const q = useInfiniteQuery({
    queryKey: [...key, 'search', params],
    enabled: list !== null,
    initialPageParam: '',
    queryFn: ({ pageParam }) => search<T>(list!, params, limit, pageParam || undefined),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...q, items };
}
