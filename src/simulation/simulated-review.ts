import { createHash } from 'node:crypto';

const REMARKS = [
  'Clear structure and well-chosen examples; the conclusion would benefit from more evidence.',
  'The main argument is sound, but several claims lack references.',
  'Good use of data; the methodology section needs more detail on validation.',
  'Well written overall; consider tightening the introduction.',
];

/** A plausible review, stable for a given job so repeated simulations of one job agree. */
export function simulatedReview(jobId: string): { score: number; feedback: string; model: string } {
  const digest = createHash('sha256').update(jobId).digest();
  return {
    score: Math.round((0.5 + (digest[0] / 255) * 0.5) * 100) / 100,
    feedback: REMARKS[digest[1] % REMARKS.length],
    model: 'simulated-llm',
  };
}
