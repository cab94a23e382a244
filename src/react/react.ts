// The React APIs this layer and the components use, imported from 'react' in this one module. A bundler that keeps
// `react` external (a library build, the bundle rows of BENCHMARKS.md) writes one `import … from "react"` statement
// per module that imports it, and keeps that statement even when the module's own code is dropped as unused; with
// one hook per file that would repeat it in every bundle. Types still come from 'react' directly.
export { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
