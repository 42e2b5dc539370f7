import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { setLanguage, type Language } from './i18n';

// LanguageSwitch toggles 中文 / English; the choice is kept in localStorage (xq_lang).
export default function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Segmented
      data-testid="lang-switch"
      aria-label={t('lang.switch')}
      size="small"
      value={i18n.language === 'en' ? 'en' : 'zh-CN'}
      onChange={(v) => setLanguage(v as Language)}
      options={[
        { label: t('lang.zh-CN'), value: 'zh-CN' },
        { label: t('lang.en'), value: 'en' },
      ]}
    />
  );
}
