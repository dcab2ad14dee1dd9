import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage, type Language } from '../i18n';
import { setThemeChoice, THEME_CHOICES, useThemeChoice, type ThemeChoice } from './theme';

// The language and theme switches: in the header, in the menu drawer on
// phones, and on the login page.

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <select
      className="select select-sm"
      aria-label={t('header.language')}
      data-testid="language-switch"
      value={i18n.language}
      onChange={(e) => setLanguage(e.target.value as Language)}
    >
      {LANGUAGES.map((l) => (
        <option key={l} value={l}>
          {t(`language.${l}`)}
        </option>
      ))}
    </select>
  );
}

export function ThemeSwitch() {
  const { t } = useTranslation();
  const choice = useThemeChoice();
  return (
    <select
      className="select select-sm"
      aria-label={t('header.theme')}
      data-testid="theme-switch"
      value={choice}
      onChange={(e) => setThemeChoice(e.target.value as ThemeChoice)}
    >
      {THEME_CHOICES.map((c) => (
        <option key={c} value={c}>
          {t(`theme.${c}`)}
        </option>
      ))}
    </select>
  );
}
