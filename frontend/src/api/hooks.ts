import { useQuery } from '@tanstack/react-query';
import { fetchAll } from './client';
import type { OrgUnit } from './types';

// useOrgUnits loads a school's whole org tree (grades or departments and their homerooms),
// sorted by position then name. Every screen shares the ['org-units', schoolId] cache entry.
export function useOrgUnits(schoolId: string | null | undefined) {
  return useQuery({
    queryKey: ['org-units', schoolId],
    enabled: !!schoolId,
    queryFn: async () => {
      const { items } = await fetchAll<OrgUnit>(`/api/v1/schools/${schoolId}/org-units`);
      return [...items].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name, 'zh-CN'));
    },
  });
}

// topLevelKind guesses whether a school's first level is grades or departments from the units
// it already has; null when the tree is empty.
export function topLevelKind(units: OrgUnit[]): 'grade' | 'department' | null {
  const top = units.find((u) => !u.parent_id);
  return top ? (top.kind === 'department' ? 'department' : 'grade') : null;
}
