import { normalizeDisplayName } from '@elizabeth/protocol/constants';

/** This browser's last display name, sent when it enters a room (API.md "Display names"). */
const NAME_KEY = 'elizabeth:display-name';

/** The remembered name, if there is one and it is still valid. */
export function rememberedName(): string | undefined {
  try {
    const result = normalizeDisplayName(localStorage.getItem(NAME_KEY));
    return 'name' in result && result.name !== null ? result.name : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers a name for the next rooms (null forgets it). */
export function rememberName(name: string | null): void {
  try {
    if (name === null) localStorage.removeItem(NAME_KEY);
    else localStorage.setItem(NAME_KEY, name);
  } catch {
    // storage unavailable: the name is only not remembered
  }
}
