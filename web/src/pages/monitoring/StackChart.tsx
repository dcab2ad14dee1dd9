// A uPlot chart of time buckets for this page: stacked bars (requests split
// into succeeded and failed, tokens by kind) or plain bars (cost). Axis and
// legend read the browser's zone, colours come from the theme's CSS
// variables (redrawn when the theme changes), the width follows the
// container, and hovering shows a tooltip with every value of the bucket.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useResolvedTheme } from '../../app/theme';
import { axisFormatOptions, axisStyle, stack } from './analysis';

export interface StackSeries {
  label: string;
  /** A CSS variable holding the colour, e.g. "--chart-1". */
  colorVar: string;
  values: (number | null)[];
}

export interface StackChartProps {
  /** Bucket starts and ends, epoch seconds. */
  starts: number[];
  ends: number[];
  /** Bottom of the stack first. */
  series: StackSeries[];
  /** Stacked (default) or side by side on one baseline (one series). */
  stacked?: boolean;
  format: (value: number) => string;
  /** A total line at the top of the tooltip. */
  totalLabel?: string;
  locale: string;
  timeZone: string;
  ariaLabel: string;
  timeLabel: string;
  height?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function StackChart({
  starts,
  ends,
  series,
  stacked = true,
  format,
  totalLabel,
  locale,
  timeZone,
  ariaLabel,
  timeLabel,
  height = 240,
}: StackChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const theme = useResolvedTheme();

  useEffect(() => {
    const el = box.current;
    if (!el || starts.length === 0) return;
    const mids = starts.map((s, i) => (s + (ends[i] ?? s)) / 2);
    const bucketSeconds = Math.max(60, (ends[0] ?? 0) - (starts[0] ?? 0));
    const span = (ends[ends.length - 1] ?? 0) - (starts[0] ?? 0);
    const style = axisStyle(span, bucketSeconds);
    const tickFormat = new Intl.DateTimeFormat(locale, { ...axisFormatOptions(style), timeZone });
    const bucketFormat = new Intl.DateTimeFormat(locale, {
      ...axisFormatOptions(bucketSeconds >= 86_400 ? 'day' : 'dayTime'),
      timeZone,
    });
    const endFormat = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });
    const bucketText = (i: number) => {
      const a = (starts[i] ?? 0) * 1000;
      const b = (ends[i] ?? 0) * 1000;
      return bucketSeconds >= 86_400 ? bucketFormat.format(a) : `${bucketFormat.format(a)}–${endFormat.format(b)}`;
    };

    const raw = series.map((s) => s.values);
    const drawn = stacked ? stack(raw) : raw.map((v) => v.map((x) => x ?? 0));
    // uPlot draws in series order: the top of the stack first, so each lower
    // (shorter) bar is painted over the one above it.
    const order = series.map((_, i) => i).reverse();
    const axisColor = cssVar('--text-muted');
    const gridColor = cssVar('--chart-grid');
    const bars = uPlot.paths.bars?.({ size: [0.75, 40], align: 0 });

    const tip = document.createElement('div');
    tip.className = 'mon-chart-tip';
    tip.setAttribute('aria-hidden', 'true');

    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      legend: { show: true, live: true },
      scales: {
        // The whole buckets, whatever the data: uPlot would widen a single point to a day.
        x: { time: true, range: () => [starts[0] ?? 0, ends[ends.length - 1] ?? 0] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          stroke: axisColor,
          grid: { show: false },
          ticks: { stroke: gridColor },
          space: style === 'time' ? 60 : 90,
          values: (_u, splits) => splits.map((v) => tickFormat.format(v * 1000)),
        },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { show: false },
          size: 64,
          values: (_u, splits) => splits.map((v) => format(v)),
        },
      ],
      series: [
        { label: timeLabel, value: (_u, _v, _s, idx) => (idx === null ? '' : bucketText(idx)) },
        ...order.map((i): uPlot.Series => {
          const s = series[i];
          const color = cssVar(s?.colorVar ?? '--chart-1');
          return {
            label: s?.label ?? '',
            stroke: color,
            fill: color,
            width: 0,
            paths: bars,
            points: { show: false },
            // The legend shows each series' own value, not the stacked sum.
            value: (_u, _v, _s, idx) => (idx === null ? '' : format(raw[i]?.[idx] ?? 0)),
          };
        }),
      ],
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const left = u.cursor.left ?? -1;
            if (idx === null || idx === undefined || left < 0) {
              tip.style.display = 'none';
              return;
            }
            tip.replaceChildren();
            const head = document.createElement('div');
            head.className = 'mon-chart-tip-head';
            head.textContent = bucketText(idx);
            tip.append(head);
            if (totalLabel !== undefined) {
              const total = raw.reduce((n, v) => n + (v[idx] ?? 0), 0);
              const line = document.createElement('div');
              line.textContent = `${totalLabel}: ${format(total)}`;
              line.className = 'mon-chart-tip-total';
              tip.append(line);
            }
            for (const i of order) {
              const s = series[i];
              if (!s) continue;
              const line = document.createElement('div');
              const swatch = document.createElement('span');
              swatch.className = 'mon-chart-tip-swatch';
              swatch.style.background = cssVar(s.colorVar);
              line.append(swatch, `${s.label}: ${format(raw[i]?.[idx] ?? 0)}`);
              tip.append(line);
            }
            tip.style.display = 'block';
            const overWidth = u.over.clientWidth;
            const tipWidth = tip.offsetWidth;
            const x = left + 12 + tipWidth > overWidth ? left - 12 - tipWidth : left + 12;
            tip.style.left = `${Math.max(0, x)}px`;
            tip.style.top = '4px';
          },
        ],
      },
    };
    const chart = new uPlot(opts, [mids, ...order.map((i) => drawn[i] ?? [])], el);
    chart.over.append(tip);
    chart.over.setAttribute('aria-hidden', 'true');

    const ro = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(el.clientWidth, 200), height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [starts, ends, series, stacked, format, totalLabel, locale, timeZone, timeLabel, height, theme]);

  return <div className="chart mon-chart" ref={box} role="img" aria-label={ariaLabel} />;
}
