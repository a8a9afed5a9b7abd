/**
 * The Okabe–Ito palette, distinguishable with every common colour-vision deficiency; series also
 * differ by dash pattern, so that no chart relies on colour alone.
 */
export const SERIES = [
  { stroke: '#0072B2', dash: [] as number[] },
  { stroke: '#E69F00', dash: [6, 3] },
  { stroke: '#009E73', dash: [2, 3] },
  { stroke: '#CC79A7', dash: [10, 3, 2, 3] },
  { stroke: '#D55E00', dash: [12, 4] },
  { stroke: '#56B4E9', dash: [4, 2, 4, 6] },
];
