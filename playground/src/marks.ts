// Milestones of the page as performance marks, read by the tests and the bench.
export const MARKS = { firstDiagnostics: 'xenolab:first-diagnostics', stopped: 'xenolab:stopped' } as const;
