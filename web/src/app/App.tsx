import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AuthProvider, useAuth } from '../api/auth';
import { isApiError } from '../api/errors';
import { Skeleton } from '../components/Skeleton';
import { LoginPage } from '../pages/login/LoginPage';
import { Layout } from './Layout';

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Retry only what may pass on a second try; never a refused key
        // (CPA bans an address after five).
        retry: (count, error) => count < 2 && isApiError(error) && error.isTransient && error.status !== 429,
        retryDelay: (attempt) => Math.min(1000 * 2 ** attempt, 8000),
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        // Timed refreshes stop while the tab is hidden (the React Query default, stated here on purpose).
        refetchIntervalInBackground: false,
      },
      mutations: { retry: false },
    },
  });
}

function Gate() {
  const { t } = useTranslation();
  const { state } = useAuth();
  if (state.status === 'checking') {
    return (
      <div className="login" aria-busy="true">
        <div className="login-card stack">
          <span className="visually-hidden">{t('common.loading')}</span>
          <Skeleton height={28} width="50%" />
          <Skeleton height={120} />
        </div>
      </div>
    );
  }
  if (state.status === 'signed-out') {
    return (
      <LoginPage reason={state.reason} startupError={state.startupError && isApiError(state.startupError) ? state.startupError : null} />
    );
  }
  return <Layout />;
}

export function App() {
  const [queryClient] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <Gate />
      </AuthProvider>
    </QueryClientProvider>
  );
}
