// The language server's analysis core (no LSP types): see analysis/.
export {};
