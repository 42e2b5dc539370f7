import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { api, isStatus } from './api/client';
import type { Me, Membership } from './api/types';

interface Session {
  // me is undefined while loading and null when nobody is logged in.
  me: Me | null | undefined;
  loading: boolean;
  current: Membership | undefined;
  select: (membershipId: string) => void;
}

const SessionContext = createContext<Session | null>(null);
const scopeKey = 'xq_scope';

// fetchMe answers null rather than failing when the session is missing or expired.
export async function fetchMe(): Promise<Me | null> {
  try {
    return await api<Me>('GET', '/api/v1/me');
  } catch (e) {
    if (isStatus(e, 401)) return null;
    throw e;
  }
}

// signedOut forgets everything cached for the previous user.
export function signedOut(qc: QueryClient) {
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
  qc.setQueryData(['me'], null);
  try {
    localStorage.removeItem(scopeKey);
  } catch {
    /* storage unavailable */
  }
}

function storedScope(): string | null {
  try {
    return localStorage.getItem(scopeKey);
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const meQuery = useQuery({ queryKey: ['me'], queryFn: fetchMe, staleTime: 60_000 });
  const [selected, setSelected] = useState<string | null>(storedScope);
  const me = meQuery.isError ? null : meQuery.data;
  const current = useMemo(() => {
    const ms = me?.memberships ?? [];
    return ms.find((m) => m.id === selected) ?? ms[0];
  }, [me, selected]);
  useEffect(() => {
    if (!current) return;
    try {
      localStorage.setItem(scopeKey, current.id);
    } catch {
      /* storage unavailable */
    }
  }, [current]);
  const value: Session = { me, loading: meQuery.isPending, current, select: setSelected };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
