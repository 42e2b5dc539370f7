import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en, zhCN } from './locales';

export const languages = ['zh-CN', 'en'] as const;
export type Language = (typeof languages)[number];

export function storedLanguage(): Language {
  try {
    const v = localStorage.getItem('xq_lang');
    if (v === 'en' || v === 'zh-CN') return v;
  } catch {
    /* storage unavailable */
  }
  return 'zh-CN';
}

i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: storedLanguage(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  showSupportNotice: false,
});

export function setLanguage(lng: Language) {
  try {
    localStorage.setItem('xq_lang', lng);
  } catch {
    /* storage unavailable */
  }
  void i18n.changeLanguage(lng);
}

export default i18n;
