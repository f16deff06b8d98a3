import { describe, expect, it } from 'vitest';

import { appendBlock } from './composer-insert';

describe('appendBlock', () => {
  it('starts an empty draft with the addition', () => {
    expect(appendBlock('', '![a.png](/contents/1)')).toBe('![a.png](/contents/1)');
    expect(appendBlock('  \n', '[b](/contents/2)')).toBe('[b](/contents/2)');
  });

  it('adds the addition as its own paragraph after the draft', () => {
    expect(appendBlock('hello\n', '[b](/contents/2)')).toBe('hello\n\n[b](/contents/2)');
  });
});
