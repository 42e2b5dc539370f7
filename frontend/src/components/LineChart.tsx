import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { LineChart as ELineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([ELineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface LineSeries {
  name: string;
  // [time label, value, marked?] — marked points (e.g. a reliable change) are drawn larger.
  points: { x: string; y: number; mark?: 'up' | 'down' }[];
}

// LineChart draws one line per series over a shared category axis (times in order).
export default function LineChart({ series, height = 280 }: { series: LineSeries[]; height?: number }) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort();
  return (
    <ReactEChartsCore
      echarts={echarts}
      notMerge
      style={{ height }}
      option={{
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 40, right: 16, top: 36, bottom: 40 },
        xAxis: { type: 'category', data: xs },
        yAxis: { type: 'value', minInterval: 1 },
        series: series.map((s) => ({
          name: s.name,
          type: 'line',
          connectNulls: true,
          data: xs.map((x) => {
            const p = s.points.find((q) => q.x === x);
            if (!p) return null;
            return p.mark ? { value: p.y, symbolSize: 14, itemStyle: { color: p.mark === 'up' ? '#ff4d4f' : '#52c41a' } } : p.y;
          }),
        })),
      }}
    />
  );
}
