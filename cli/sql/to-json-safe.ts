import {
  dateFromTimestampMillisecondsValue,
  dateFromTimestampNanosecondsValue,
  dateFromTimestampSecondsValue,
  dateFromTimestampTZValue,
  dateFromTimestampValue,
  DuckDBDecimalValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
} from "@duckdb/node-api";

/** Decimals up to this many digits convert to a number without losing any. */
const EXACT_DECIMAL_DIGITS = 15;

/** DuckDB's JSON conversion, but with numbers, ISO timestamps and parsed JSON where those are exact. */
export const toJsonSafe: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return typeof value === "bigint" && Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
    case DuckDBTypeId.DECIMAL:
      return type.width <= EXACT_DECIMAL_DIGITS && value instanceof DuckDBDecimalValue
        ? value.toDouble()
        : String(value);
    case DuckDBTypeId.DATE:
      return String(value);
    case DuckDBTypeId.TIMESTAMP:
      return isoTimestamp(value, dateFromTimestampValue);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return isoTimestamp(value, dateFromTimestampTZValue);
    case DuckDBTypeId.TIMESTAMP_S:
      return isoTimestamp(value, dateFromTimestampSecondsValue);
    case DuckDBTypeId.TIMESTAMP_MS:
      return isoTimestamp(value, dateFromTimestampMillisecondsValue);
    case DuckDBTypeId.TIMESTAMP_NS:
      return isoTimestamp(value, dateFromTimestampNanosecondsValue);
    case DuckDBTypeId.VARCHAR:
      return type.alias === "JSON" ? parseJson(String(value)) : String(value);
    default:
      return JsonDuckDBValueConverter(value, type, converter);
  }
};

/** Beyond what a Date holds (infinity, say), DuckDB's own text. */
function isoTimestamp(value: DuckDBValue, toDate: (value: DuckDBValue) => Date): string {
  try {
    return toDate(value).toISOString();
  } catch {
    return String(value);
  }
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}
