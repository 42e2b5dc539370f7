import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';

// ConcernCategory is one category of the district's concern taxonomy (关注类别).
export interface ConcernCategory {
  code: string;
  name_zh: string;
  name_en: string;
  position: number;
  active: boolean;
}

export function categoryName(c: ConcernCategory, language: string): string {
  return language === 'en' ? c.name_en : c.name_zh;
}

// useConcernCategories loads the school district's taxonomy: the active categories (for
// forms) and a name for every code (inactive ones too, for old sessions).
export function useConcernCategories(base: string) {
  const { i18n } = useTranslation();
  const q = useQuery({
    queryKey: ['concern-categories', base],
    queryFn: () => api<{ items: ConcernCategory[] }>('GET', `${base}/concern-categories`),
    staleTime: 60_000,
  });
  const items = q.data?.items ?? [];
  const names = new Map(items.map((c) => [c.code, categoryName(c, i18n.language)]));
  return {
    error: q.error,
    active: items.filter((c) => c.active).map((c) => ({ value: c.code, label: categoryName(c, i18n.language) })),
    name: (code: string) => names.get(code) ?? code,
  };
}
