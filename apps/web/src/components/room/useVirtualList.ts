'use client';

import { defaultRangeExtractor, useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useLayoutEffect, useRef, useState, type RefObject } from 'react';

/**
 * A virtualised list inside a scroller that holds other things above it (a "load older" line, a
 * drop zone): only the rows in and near the view are rendered, each measured as it renders
 * (@tanstack/react-virtual). Put `listRef` on the list element (positioned, `height` =
 * `getTotalSize()`) and place each row at `translateY(row.start - listTop)`; the scroller must be
 * positioned too, so the list's `offsetTop` is its place in the scrolled content.
 *
 * `keep` is the index of a row that stays rendered wherever the view is (the row with keyboard
 * focus: unmounting it would drop the focus to the page's body).
 */
export function useVirtualList<L extends HTMLElement>(
  scroller: RefObject<HTMLElement | null>,
  items: readonly { id: number }[],
  rows: {
    /** A row's height (px) until it is measured. */
    estimate: number;
    gap: number;
    overscan: number;
    paddingEnd?: number;
  },
  keep?: number,
) {
  const listRef = useRef<L>(null);
  const [listTop, setListTop] = useState(0);
  const rangeExtractor = useCallback(
    (range: Parameters<typeof defaultRangeExtractor>[0]) => {
      const indexes = defaultRangeExtractor(range);
      if (keep === undefined || keep < 0 || keep >= range.count || indexes.includes(keep)) return indexes;
      return [...indexes, keep].sort((a, b) => a - b);
    },
    [keep],
  );
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rows.estimate,
    getItemKey: (index) => items[index]?.id ?? index,
    gap: rows.gap,
    overscan: rows.overscan,
    paddingEnd: rows.paddingEnd ?? 0,
    scrollMargin: listTop,
    rangeExtractor,
  });
  useLayoutEffect(() => {
    const top = listRef.current?.offsetTop;
    if (top !== undefined && top !== listTop) setListTop(top);
  });
  return { virtualizer, listRef, listTop };
}

/** The index (`data-index`) of the virtualised row that holds `target`, if it is in one. */
export function rowIndexOf(target: EventTarget | null): number | undefined {
  const row = (target as HTMLElement | null)?.closest?.<HTMLElement>('[data-index]');
  return row ? Number(row.dataset.index) : undefined;
}

/** The id of the item whose virtualised row holds `target`, if it is in one. */
export function rowItemId(target: EventTarget | null, items: readonly { id: number }[]): number | undefined {
  const at = rowIndexOf(target);
  return at === undefined ? undefined : items[at]?.id;
}
