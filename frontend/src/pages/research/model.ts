// Research export requests (科研数据导出): the shapes of the API and the small rules the
// page shows before the server checks them again.

export type ResearchStatus = 'pending' | 'approved' | 'rejected' | 'running' | 'ready' | 'failed';

export interface CodebookField {
  name: string;
  meaning: string;
  type: string;
  codes?: string[];
  quasi_identifier: boolean;
}

export interface ResearchFile {
  name: string;
  size: number;
  sha256: string;
}

export interface ResearchRequest {
  id: string;
  researcher_id: string;
  purpose: string;
  years: number[];
  fields: string[];
  ethics_ref: string;
  k: number;
  longitudinal: boolean;
  status: ResearchStatus;
  decision_reason: string | null;
  decided_at: string | null;
  progress: number;
  files: ResearchFile[] | null;
  rows_exported: number | null;
  ready_at: string | null;
  expires_at: string | null;
  created_at: string;
}

export const statusColor: Record<ResearchStatus, string> = {
  pending: 'gold', approved: 'blue', rejected: 'red', running: 'processing', ready: 'green', failed: 'red',
};

// selectableFields are the codebook fields a researcher picks: pid and year are always exported.
export function selectableFields(codebook: CodebookField[]): CodebookField[] {
  return codebook.filter((f) => f.name !== 'pid' && f.name !== 'year');
}

// yearOptions are the years a request may name: the current year and the nine before it.
export function yearOptions(now: Date): number[] {
  const y = now.getFullYear();
  return Array.from({ length: 10 }, (_, i) => y - i);
}

// downloadable tells whether the files of a request can be fetched now: ready and not expired.
export function downloadable(r: ResearchRequest, now: Date): boolean {
  return r.status === 'ready' && !!r.files?.length && (!r.expires_at || new Date(r.expires_at) > now);
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
