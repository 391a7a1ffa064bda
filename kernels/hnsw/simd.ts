// HNSW graph kernel, SIMD build (entry compiled by build.json with --enable simd). See graph.ts.
export { codeDistance, configure, configureCodes, configureThreads, distance, entryPoint, exact, insert, insertRange, insertShared, maxLevel, search, setEntry } from "./graph";
