/** How close to the bottom (px) a message list still counts as "at the bottom". */
export const NEAR_BOTTOM = 120;

/** The list's scroll position and content height when it last looked. */
export interface ScrollLook {
  top: number;
  height: number;
}

/**
 * Whether a message list that follows the bottom (`following`) still does after a scroll event,
 * and whether it must be put back at the bottom (it follows but is no longer near it).
 *
 * Only the reader scrolling up leaves the bottom, and a reader's scroll moves the view over
 * content that stays the same height. When the content changed height since the last look, the
 * position moved because of the content: an image laid out with no height first pulls the view
 * up to the new bottom (the browser clamps it), and once it has its real height the list is far
 * from the bottom without anyone having scrolled; a loaded machine delivers both in one scroll
 * event.
 */
export function followAfterScroll(
  following: boolean,
  last: ScrollLook,
  now: ScrollLook & { client: number },
): { following: boolean; toBottom: boolean } {
  const near = now.height - now.top - now.client < NEAR_BOTTOM;
  const readerMovedUp = now.top < last.top && now.height === last.height;
  const still = near || (following && !readerMovedUp);
  return { following: still, toBottom: still && !near };
}
