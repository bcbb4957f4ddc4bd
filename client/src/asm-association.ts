// `xenolab.associateAsm`: `.asm` files opened as guest sources. VS Code decides a file's
// language from `files.associations`, so the setting adds `"*.asm": "xasm"` there, at the
// level (user, workspace) where it is set, and removes it again when turned off — only
// the entry it added, never another extension's association.

export type Associations = Record<string, string>;

export const ASM_PATTERN = '*.asm';
export const LANGUAGE_ID = 'xasm';

/** The new `files.associations` for one settings level, or null when it stays as it is. */
export function asmAssociations(current: Associations | undefined, enabled: boolean): Associations | undefined | null {
  const ours = current?.[ASM_PATTERN] === LANGUAGE_ID;
  if (enabled && !ours) return { ...current, [ASM_PATTERN]: LANGUAGE_ID };
  if (!enabled && ours) {
    const { [ASM_PATTERN]: _dropped, ...rest } = current!;
    return Object.keys(rest).length === 0 ? undefined : rest;
  }
  return null;
}
