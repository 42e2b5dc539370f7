import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from './api/client';
import type { Me, Membership } from './api/types';

interface Session {
  me: Me | undefined;
  loading: boolean;
  current: Membership | undefined;
  select: (membershipId: string) => void;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const meQuery = useQuery({
    queryKey: ['me'],
    queryFn: () => api<Me>('GET', '/api/v1/me'),
    retry: (n, err) => !(err instanceof ApiError && err.status === 401) && n < 2,
    staleTime: 60_000,
  });
  const [selected, setSelected] = useState<string | null>(() => localStorage.getItem('xq_scope'));
  const me = meQuery.isError ? undefined : meQuery.data;
  const current = useMemo(() => {
    const ms = me?.memberships ?? [];
    return ms.find((m) => m.id === selected) ?? ms[0];
  }, [me, selected]);
  useEffect(() => {
    if (current) localStorage.setItem('xq_scope', current.id);
  }, [current]);
  const value: Session = {
    me,
    loading: meQuery.isLoading,
    current,
    select: (id) => setSelected(id),
    refresh: async () => {
      await qc.invalidateQueries({ queryKey: ['me'] });
    },
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
