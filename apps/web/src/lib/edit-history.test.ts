import { describe, expect, it } from 'vitest';

import { EditHistory, changeOffset } from './edit-history';
import { headingLines } from './markdown-edit';
import { invertSelection } from './selection';

const at = (value: string) => ({ value, start: value.length, end: value.length });

describe('EditHistory', () => {
  it('undoes and redoes edits, grouping quick typing into one step', () => {
    const history = new EditHistory();
    history.record(at(''), 'typing', 1000);
    history.record(at('a'), 'typing', 1100); // same burst
    history.record(at('ab'), 'edit', 1200);
    expect(history.undo(at('## ab'))).toEqual(at('ab'));
    expect(history.undo(at('ab'))).toEqual(at(''));
    expect(history.canUndo).toBe(false);
    expect(history.redo(at(''))).toEqual(at('ab'));
    expect(history.redo(at('ab'))).toEqual(at('## ab'));
    expect(history.canRedo).toBe(false);
  });

  it('forgets the redo steps after a new change', () => {
    const history = new EditHistory();
    history.record(at('x'), 'edit', 0);
    history.undo(at('xy'));
    history.record(at('x'), 'typing', 5000);
    expect(history.canRedo).toBe(false);
  });

  it('places the caret where two texts start to differ', () => {
    expect(changeOffset('hello', 'help')).toBe(3);
    expect(changeOffset('', 'a')).toBe(0);
  });
});

describe('headingLines', () => {
  it('sets the heading level of every selected line, replacing an existing marker', () => {
    expect(headingLines('one\ntwo', 0, 7, 2).value).toBe('## one\n## two');
    expect(headingLines('### title', 2, 2, 1).value).toBe('# title');
  });
});

describe('invertSelection', () => {
  it('selects exactly the items that were not selected', () => {
    expect([...invertSelection([{ id: 1 }, { id: 2 }, { id: 3 }], new Set([2]))]).toEqual([1, 3]);
  });
});
