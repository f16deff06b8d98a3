import { describe, expect, it } from 'vitest';

import { followAfterScroll } from './follow-bottom';

const client = 655;

describe('followAfterScroll', () => {
  it('stays at the bottom when an image was clamped to no height and has grown by the next scroll event', () => {
    // At the bottom of 3543 px; the image laid out with no height (3240 px, the view clamped to
    // 2585), then 600 px tall (3823 px): one scroll event sees the clamped top and the new height.
    expect(followAfterScroll(true, { top: 2888, height: 3543 }, { top: 2585, height: 3823, client })).toEqual(
      {
        following: true,
        toBottom: true,
      },
    );
  });

  it('leaves the bottom when the reader scrolls up over content of the same height', () => {
    expect(followAfterScroll(true, { top: 2888, height: 3543 }, { top: 2500, height: 3543, client })).toEqual(
      {
        following: false,
        toBottom: false,
      },
    );
  });

  it('counts a small move up near the bottom as still at the bottom, without pulling the view back', () => {
    expect(followAfterScroll(true, { top: 2888, height: 3543 }, { top: 2800, height: 3543, client })).toEqual(
      {
        following: true,
        toBottom: false,
      },
    );
  });

  it('follows again once the reader is back near the bottom, and not before', () => {
    expect(
      followAfterScroll(false, { top: 2000, height: 3543 }, { top: 2500, height: 3543, client }).following,
    ).toBe(false);
    expect(
      followAfterScroll(false, { top: 2500, height: 3543 }, { top: 2880, height: 3543, client }).following,
    ).toBe(true);
  });

  it('does not start following because content grew under a reader who had scrolled up', () => {
    expect(
      followAfterScroll(false, { top: 1000, height: 3543 }, { top: 900, height: 3823, client }).following,
    ).toBe(false);
  });
});
