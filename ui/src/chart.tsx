import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { SERIES } from './palette.js';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** How the legend and tooltip print a value. */
  format?: (value: number) => string;
  /** Draw as bars (counts) instead of a line. */
  bars?: boolean;
}

/** A time-series chart (uPlot) that fits its card's width, with a legend that names each series by text and dash. */
export function TimeChart(props: {
  times: number[];
  series: ChartSeries[];
  height?: number;
  yFormat?: (value: number) => string;
  testId?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const yFormat = props.yFormat ?? ((value: number) => String(value));
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: props.height ?? 220,
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e3e6ea' } },
        {
          stroke: '#5b6472',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#e3e6ea' },
          size: 64,
          values: (_chart, splits) => splits.map(yFormat),
        },
      ],
      series: [
        {},
        ...props.series.map((series, index) => {
          const style = SERIES[index % SERIES.length] ?? SERIES[0]!;
          return {
            label: series.label,
            stroke: style.stroke,
            width: 2,
            dash: series.bars ? [] : style.dash,
            ...(series.bars === true ? { fill: `${style.stroke}cc` } : props.series.length === 1 ? { fill: `${style.stroke}14` } : {}),
            // A value with none beside it joins no line: it is drawn as a point, or it would not show.
            points: {
              show: false,
              size: 7,
              fill: style.stroke,
              filter: (chart: uPlot, seriesIndex: number) => loneIndexes(chart.data[seriesIndex] ?? []),
            },
            spanGaps: false,
            ...(series.bars === true && uPlot.paths.bars !== undefined ? { paths: uPlot.paths.bars({ size: [0.7, 40] }) } : {}),
            value: (_chart: uPlot, value: number | null) => (value === null ? '–' : (series.format ?? yFormat)(value)),
          };
        }),
      ],
    };
    const data: uPlot.AlignedData = [props.times.map((t) => t / 1000), ...props.series.map((series) => series.values)];
    const chart = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 200), height: props.height ?? 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [props.times, props.series]);
  return <div class="chart" ref={host} data-testid={props.testId} />;
}

/** The indexes of the values with no value on either side; null when there are none. */
function loneIndexes(values: ArrayLike<number | null | undefined>): number[] | null {
  const present = (index: number) => values[index] !== null && values[index] !== undefined;
  const lone: number[] = [];
  for (let index = 0; index < values.length; index++) {
    if (present(index) && !present(index - 1) && !present(index + 1)) lone.push(index);
  }
  return lone.length === 0 ? null : lone;
}
