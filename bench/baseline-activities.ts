/** The baseline's activities: they return at once. */
export function createBaselineActivities() {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- an activity is async by contract
    async noop(_id: string, _step: number): Promise<number> {
      return 1;
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
