/** SQL files imported as text (`with { type: 'text' }`) so the binary embeds its migrations. */
declare module '*.sql' {
  const text: string;
  export default text;
}
