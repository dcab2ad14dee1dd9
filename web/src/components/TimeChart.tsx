// A time chart on uPlot: bars and lines over time buckets, one or two value
// axes, colours from the theme's CSS variables, resized with its container.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useResolvedTheme } from '../app/theme';

export interface ChartSeries {
  label: string;
  /** A CSS variable holding the colour, e.g. "--chart-1". */
  colorVar: string;
  kind: 'bars' | 'line';
  /** Left axis ("left") or right axis ("right"). */
  axis?: 'left' | 'right';
  values: (number | null)[];
  format: (value: number) => string;
}

export interface TimeChartProps {
  /** Bucket starts, epoch seconds. */
  starts: number[];
  /** Bucket ends, epoch seconds (same length as starts). */
  ends: number[];
  series: ChartSeries[];
  /** Axis tick labels for the time axis, and the legend's bucket label. */
  formatTick: (epochSeconds: number) => string;
  formatBucket: (startSeconds: number, endSeconds: number) => string;
  /** A text summary for screen readers. */
  ariaLabel: string;
  /** Legend label of the time column. */
  timeLabel: string;
  height?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function TimeChart({ starts, ends, series, formatTick, formatBucket, ariaLabel, timeLabel, height = 260 }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const theme = useResolvedTheme();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const mids = starts.map((s, i) => (s + (ends[i] ?? s)) / 2);
    const axisColor = cssVar('--text-muted');
    const gridColor = cssVar('--chart-grid');
    const hasRight = series.some((s) => s.axis === 'right');
    const leftFormat = series.find((s) => s.axis !== 'right')?.format ?? String;
    const rightFormat = series.find((s) => s.axis === 'right')?.format ?? String;
    const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });

    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      legend: { show: true, live: true },
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 1800, max + 1800] },
        left: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
        right: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {
          stroke: axisColor,
          grid: { show: false },
          ticks: { stroke: gridColor },
          values: (_u, splits) => splits.map((v) => formatTick(v)),
        },
        {
          scale: 'left',
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { show: false },
          size: 56,
          values: (_u, splits) => splits.map((v) => leftFormat(v)),
        },
        ...(hasRight
          ? [
              {
                scale: 'right',
                // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- uPlot.Axis.Side is an ambient const enum, which isolatedModules cannot reference; 1 is Side.Right
                side: 1 as uPlot.Axis.Side,
                stroke: axisColor,
                grid: { show: false },
                ticks: { show: false },
                size: 56,
                values: (_u: uPlot, splits: number[]) => splits.map((v) => rightFormat(v)),
              },
            ]
          : []),
      ],
      series: [
        { label: timeLabel, value: (_u, _v, _s, idx) => (idx === null ? '' : formatBucket(starts[idx] ?? 0, ends[idx] ?? 0)) },
        ...series.map((s): uPlot.Series => {
          const color = cssVar(s.colorVar);
          return {
            label: s.label,
            scale: s.axis === 'right' ? 'right' : 'left',
            stroke: color,
            width: s.kind === 'line' ? 2 : 0,
            fill: s.kind === 'bars' ? color : undefined,
            paths: s.kind === 'bars' ? bars : undefined,
            points: { show: false },
            // uPlot passes null for a missing value; the formatters show it as a dash.
            value: (_u, v) => s.format(v),
          };
        }),
      ],
    };
    const chart = new uPlot(opts, [mids, ...series.map((s) => s.values)], el);
    const canvas = el.querySelector('.u-over');
    canvas?.setAttribute('aria-hidden', 'true');

    const ro = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(el.clientWidth, 200), height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [starts, ends, series, formatTick, formatBucket, timeLabel, height, theme]);

  return <div className="chart" ref={box} role="img" aria-label={ariaLabel} />;
}
