// @ts-check
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["node_modules/", ".netlify/", ".telemetry-data/", "coverage/"] },
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // What review misses: a promise nobody awaits, an async callback where a void one is expected, a switch
      // that forgets a new member of a union, a type import that survives into the emitted JavaScript.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // A name that begins with "_" is unused on purpose: a field left out of a rest (`{ a: _a, ...rest }`), a
      // parameter an interface gives every implementation.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      // Off: `async` without `await` is how a function meets a Promise-returning signature (a handler, an
      // interface) and turns a throw into a rejection; the rule would ask for Promise.resolve wrappers instead.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Off in tests: they read responses and files as JSON (`any`) and `expect` is the check on what they hold;
    // typing each one first would add casts, not safety.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // The config files are plain JavaScript outside tsconfig.json's program.
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
