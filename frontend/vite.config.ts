/// <reference types="vitest/config" />
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The Go API; XINQIAO_API points the dev server and `vite preview` elsewhere.
const api = process.env.XINQIAO_API || 'http://127.0.0.1:8080';
const outDir = 'dist';

// keepGitkeep puts dist/.gitkeep back after emptyOutDir wiped it: the directory is committed
// empty so that `go:embed all:dist` compiles before the first build.
function keepGitkeep(): Plugin {
  return {
    name: 'xinqiao-keep-gitkeep',
    apply: 'build',
    closeBundle() {
      writeFileSync(path.resolve(import.meta.dirname, outDir, '.gitkeep'), '');
    },
  };
}

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  server: { proxy: { '/api': api } },
  preview: { proxy: { '/api': api } },
  build: {
    outDir,
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        // Framework code changes rarely (long-cached); ECharts loads only with the home chart.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|react-router|react-router-dom|scheduler)[\\/]/, priority: 30 },
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|echarts-for-react)[\\/]/, priority: 20 },
          ],
        },
      },
    },
  },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'], setupFiles: ['src/test/setup.ts'], testTimeout: 30_000 },
});
