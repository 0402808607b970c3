/** A page of a cursor-paginated list, as every list operation of the API answers. */
export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** Every item of a list, page by page, following `nextCursor` until the last page. */
export async function* paginate<Item>(fetchPage: (cursor: string | undefined) => Promise<Page<Item>>): AsyncGenerator<Item, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
