import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { BarChart as EBarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

// Only what the dashboard draws: bars on a grid with a tooltip (keeps the chunk small).
echarts.use([EBarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export interface BarChartProps {
  labels: string[];
  values: number[];
  seriesName: string;
  height?: number;
}

export default function BarChart({ labels, values, seriesName, height = 320 }: BarChartProps) {
  return (
    <ReactEChartsCore
      echarts={echarts}
      notMerge
      style={{ height }}
      option={{
        tooltip: { trigger: 'axis' },
        grid: { left: 40, right: 16, top: 24, bottom: 40 },
        xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, hideOverlap: true } },
        yAxis: { type: 'value', minInterval: 1 },
        series: [{ name: seriesName, type: 'bar', data: values, barMaxWidth: 48, itemStyle: { color: '#1677ff', borderRadius: [4, 4, 0, 0] } }],
      }}
    />
  );
}
