// HNSW graph kernel, SIMD build (entry compiled by build.json with --enable simd). See graph.ts.
export { codeDistance, configure, configureCodes, distance, entryPoint, exact, insert, insertRange, maxLevel, search, setEntry } from "./graph";
