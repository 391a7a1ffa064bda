// HNSW graph kernel, scalar build (entry compiled by build.json). See graph.ts.
export { codeDistance, configure, configureCodes, distance, entryPoint, exact, insert, insertRange, maxLevel, search, setEntry } from "./graph";
