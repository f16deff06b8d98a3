'use client';

import { useVirtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useRef, useState, type RefObject } from 'react';

/**
 * A virtualised list inside a scroller that holds other things above it (a "load older" line, a
 * drop zone): only the rows in and near the view are rendered, each measured as it renders
 * (@tanstack/react-virtual). Put `listRef` on the list element (positioned, `height` =
 * `getTotalSize()`) and place each row at `translateY(row.start - listTop)`; the scroller must be
 * positioned too, so the list's `offsetTop` is its place in the scrolled content.
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
) {
  const listRef = useRef<L>(null);
  const [listTop, setListTop] = useState(0);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rows.estimate,
    getItemKey: (index) => items[index]?.id ?? index,
    gap: rows.gap,
    overscan: rows.overscan,
    paddingEnd: rows.paddingEnd ?? 0,
    scrollMargin: listTop,
  });
  useLayoutEffect(() => {
    const top = listRef.current?.offsetTop;
    if (top !== undefined && top !== listTop) setListTop(top);
  });
  return { virtualizer, listRef, listTop };
}
