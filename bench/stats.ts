// Order statistics over timing samples.
export function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function summary(samples: number[], digits = 1): string {
  return `p50 ${quantile(samples, 0.5).toFixed(digits)} · p90 ${quantile(samples, 0.9).toFixed(digits)} · p99 ${quantile(samples, 0.99).toFixed(digits)} (n=${samples.length})`;
}
