import type { Observation, ScenarioContext } from "../context";

/** One scenario's code: runs against a started topology and says what it observed. */
export type Flow = (ctx: ScenarioContext) => Promise<Observation>;
