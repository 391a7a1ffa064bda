// HNSW graph kernel, scalar build (entry compiled by build.json). See graph.ts.
export { codeDistance, configure, configureCodes, configureThreads, distance, entryPoint, exact, insert, insertRange, insertShared, maxLevel, search, setEntry } from "./graph";
