import { XMLParser } from "fast-xml-parser";

/** An SVG document as a tree of elements, its attributes kept as `@_name` and every value as text. */
export function parseSvg(svg: string): Record<string, unknown> {
  return new XMLParser({ ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false }).parse(
    svg,
  ) as Record<string, unknown>;
}

/** Every text node and attribute that shows or describes text under `root`, decoded as a viewer reads it. */
export function textsIn(root: unknown): string[] {
  const texts: string[] = [];
  const visit = (node: unknown, key: string): void => {
    if (typeof node === "string") {
      if (!key.startsWith("@_") || key === "@_aria-label") texts.push(node);
    } else if (Array.isArray(node)) node.forEach((child) => visit(child, key));
    else if (node && typeof node === "object") for (const [k, v] of Object.entries(node)) visit(v, k);
  };
  visit(root, "");
  return texts;
}

/** Every text an SVG shows or describes. */
export function svgTexts(svg: string): string[] {
  return textsIn(parseSvg(svg));
}
