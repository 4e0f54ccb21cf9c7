/** A column of a data table: its header, and `num` for a right-aligned number column. */
export type Column = string | { name: string; num: true };

export const num = (name: string): Column => ({ name, num: true });

/** The header row of a data table, every cell a column header (screen readers name cells by it). */
export function TableHead({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          typeof c === 'string' ? (
            <th scope="col" key={c}>
              {c}
            </th>
          ) : (
            <th scope="col" class="num" key={c.name}>
              {c.name}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
