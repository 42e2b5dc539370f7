import { useQuery } from '@tanstack/react-query';
import { api, fetchAll } from '../../api/client';
import type { School } from '../../api/types';
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
