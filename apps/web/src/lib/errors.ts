import { isApiError } from './api-client';
import type { Translate } from './i18n';

/** A user-facing sentence for any error, localised by error code. */
export function errorMessage(t: Translate, error: unknown): string {
  if (isApiError(error)) {
    const key = `errors.${error.code}`;
    const text = t(key);
    if (text !== key) {
      if (error.code === 'RATE_LIMITED' && error.retryAfter)
        return t('errors.RATE_LIMITED_AFTER', { seconds: error.retryAfter });
      if (error.code === 'VALIDATION_ERROR' && error.message)
        return `${text} ${error.details?.[0]?.message ?? error.message}`;
      return text;
    }
    return error.message || t('errors.unknown');
  }
  return error instanceof Error && error.message ? error.message : t('errors.unknown');
}
