// The page's elements as the modules use them: each module names the elements it works on by
// their ids in one place, and a missing one stops it at once, naming the id.

/**
 * The elements with the ids `ids` names, under the same keys: elementsById({ status:
 * "stored-status" }) is { status: <p id="stored-status"> }. Looked up under `root` (the whole
 * page by default). An id the page does not have throws here, naming it, instead of a TypeError
 * on null later, far from the mistyped id.
 */
export function elementsById(ids, root = document) {
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => {
    const element = root.querySelector(`#${CSS.escape(id)}`);
    if (!element) throw new Error(`The page has no element #${id} (wanted as ${name}).`);
    return [name, element];
  }));
}
