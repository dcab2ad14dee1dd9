// i18next set up with the panel's two bundles, both inlined into the page.
// Every visible string lives in en.json and zh-CN.json (same keys; a unit
// test checks it). Keys are type-checked: t('nav.dashboard') compiles,
// t('nav.dashbord') does not.
import i18next, { type ParseKeys } from 'i18next';
import { initReactI18next } from 'react-i18next';
import enBase from './en.json';
import zhCNBase from './zh-CN.json';
import monitoringEn from '../pages/monitoring/en.json';
import monitoringZh from '../pages/monitoring/zh-CN.json';
import pricingEn from '../pages/pricing/en.json';
import pricingZh from '../pages/pricing/zh-CN.json';
import apiKeysEn from '../pages/api-keys/en.json';
import apiKeysZh from '../pages/api-keys/zh-CN.json';
import importExportEn from '../pages/import-export/en.json';
import importExportZh from '../pages/import-export/zh-CN.json';
import logsEn from '../pages/logs/en.json';
import logsZh from '../pages/logs/zh-CN.json';
import systemEn from '../pages/system/en.json';
import systemZh from '../pages/system/zh-CN.json';
import configEn from '../pages/config/en.json';
import configZh from '../pages/config/zh-CN.json';
import providersEn from '../pages/providers/en.json';
import providersZh from '../pages/providers/zh-CN.json';
import authFilesEn from '../pages/auth-files/en.json';
import authFilesZh from '../pages/auth-files/zh-CN.json';
import oauthEn from '../pages/oauth/en.json';
import oauthZh from '../pages/oauth/zh-CN.json';
import quotaEn from '../pages/quota/en.json';
import quotaZh from '../pages/quota/zh-CN.json';
import inspectionEn from '../pages/inspection/en.json';
import inspectionZh from '../pages/inspection/zh-CN.json';
import { pickLanguage, type Language } from './lang';
import { readStored, STORAGE_KEYS, writeStored } from '../lib/storage';

// Pages with many strings keep them next to their code, under their own
// top-level key, so page authors do not edit one shared file.
export const en = {
  ...enBase,
  monitoringPage: monitoringEn,
  pricingPage: pricingEn,
  apiKeysPage: apiKeysEn,
  importExportPage: importExportEn,
  logsPage: logsEn,
  systemPage: systemEn,
  configPage: configEn,
  providersPage: providersEn,
  authFilesPage: authFilesEn,
  oauthPage: oauthEn,
  quotaPage: quotaEn,
  inspectionPage: inspectionEn,
};
export const zhCN = {
  ...zhCNBase,
  monitoringPage: monitoringZh,
  pricingPage: pricingZh,
  apiKeysPage: apiKeysZh,
  importExportPage: importExportZh,
  logsPage: logsZh,
  systemPage: systemZh,
  configPage: configZh,
  providersPage: providersZh,
  authFilesPage: authFilesZh,
  oauthPage: oauthZh,
  quotaPage: quotaZh,
  inspectionPage: inspectionZh,
};

export const resources = {
  en: { translation: en },
  'zh-CN': { translation: zhCN },
} as const;

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}

/** A translation key. */
export type TKey = ParseKeys;

function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages.length > 0 ? navigator.languages : [navigator.language];
}

export function initI18n(): typeof i18next {
  const lng = pickLanguage(readStored('local', STORAGE_KEYS.language), browserLanguages());
  void i18next.use(initReactI18next).init({
    resources,
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  document.documentElement.lang = lng;
  return i18next;
}

/** Switches the language and remembers the choice. */
export function setLanguage(lng: Language): void {
  writeStored('local', STORAGE_KEYS.language, lng);
  void i18next.changeLanguage(lng);
  document.documentElement.lang = lng;
}

export { LANGUAGES, type Language } from './lang';
