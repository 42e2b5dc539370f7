// Types and helpers of the term summary (期末小结) screens.

export interface SummaryFigures {
  school_name: string;
  term_name: string;
  starts_on: string;
  ends_on: string;
  activities: { type: string; count: number; attendance: number; hours: number }[];
  barometer_reports: number;
  barometer_named: number;
  sessions: { category: string; sessions: number }[];
}

export type SummaryStatus = 'draft' | 'submitted' | 'approved' | 'returned';

export interface TermSummary {
  school_id: string;
  term_id: string;
  status: SummaryStatus;
  stored: boolean;
  figures: SummaryFigures;
  narrative: string;
  review_comment: string;
  locked: boolean;
  submitted_at: string | null;
}

export interface SummaryQueueItem {
  school_id: string;
  school_name: string;
  term_id: string;
  term_name: string;
  status: SummaryStatus;
  submitted_at: string | null;
}

export const summaryStatusColor: Record<SummaryStatus, string> = { draft: 'default', submitted: 'blue', approved: 'green', returned: 'orange' };

// reviewActions lists what the district may do with a summary in a status.
export function reviewActions(status: SummaryStatus): ('approve' | 'return' | 'reopen')[] {
  if (status === 'submitted') return ['approve', 'return'];
  if (status === 'approved') return ['reopen'];
  return [];
}

export function exportPath(school: string, term: string, format: 'pdf' | 'xlsx'): string {
  return `/api/v1/schools/${school}/term-summaries/${term}/export?format=${format}`;
}
