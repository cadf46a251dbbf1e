export { Icg, StartedIcg, MOCK_ICG_VERSION, validateIcgOptions } from "./icg";
export type { IcgOptions, IcgEndpoints } from "./icg";
export { icgCommand, runIcgProcess } from "./main";
