import { useQueries, useQuery } from '@tanstack/react-query';
import { api, fetchAll } from '../../api/client';
import type { OrgUnit, School } from '../../api/types';
import type { Instrument } from '../../api/screening';

// useDistrictSchools: every school of the district (for campaign targets and enablements).
export function useDistrictSchools(district: string | null | undefined) {
  return useQuery({
    queryKey: ['schools-all', district],
    enabled: !!district,
    queryFn: async () => (await fetchAll<School>(`/api/v1/districts/${district}/schools`)).items,
  });
}

// useInstruments: the latest version of every instrument, built-ins included.
export function useInstruments(district: string | null | undefined) {
  return useQuery({
    queryKey: ['instruments', district],
    enabled: !!district,
    queryFn: async () => (await api<{ items: Instrument[] }>('GET', `/api/v1/districts/${district}/instruments`)).items,
  });
}

// useGradeNames: the grade (or department) names of some schools, to target a campaign.
// A school whose tree cannot be read adds nothing (names can still be typed).
export function useGradeNames(schoolIds: string[]): string[] {
  const trees = useQueries({
    queries: schoolIds.map((id) => ({
      queryKey: ['campaign-grade-names', id],
      retry: false,
      queryFn: async () => (await fetchAll<OrgUnit>(`/api/v1/schools/${id}/org-units`)).items,
    })),
  });
  const names: string[] = [];
  for (const q of trees) {
    for (const u of [...(q.data ?? [])].sort((a, b) => a.position - b.position)) {
      if (!u.parent_id && u.kind !== 'homeroom' && !names.includes(u.name)) names.push(u.name);
    }
  }
  return names;
}
