/** The number a path's id names in a PostgreSQL integer column, or undefined when it can name no
 * row there (not digits, or past the column's range, which would fail the query instead). */
export function serialId(id: string): number | undefined {
  return /^\d{1,10}$/.test(id) && Number(id) < 2 ** 31 ? Number(id) : undefined;
}
