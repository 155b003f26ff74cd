import { afterEach, describe, expect, it } from "vitest";
import { displayAddress, floorName, floorOfRoom, formatAddress, parseAddress } from "../src/address";
import { setLang } from "../src/i18n";

afterEach(() => setLang("zh", null));

describe("address", () => {
  it("parses the short and the long form alike", () => {
    const expected = { building: "3", entrance: "2", room: "1801" };
    expect(parseAddress("3-2-1801")).toEqual(expected);
    expect(parseAddress(" 3－2－1801 ")).toEqual(expected);
    expect(parseAddress("3栋2单元1801室")).toEqual(expected);
    expect(parseAddress("3号楼2单元1801")).toEqual(expected);
    expect(parseAddress("A-1801")).toEqual({ building: "A", entrance: null, room: "1801" });
  });

  it("refuses what is not an address", () => {
    for (const text of ["", "FD-3-01", "3-2-18", "smoke detector", "3--1801"]) expect(parseAddress(text), text).toBeNull();
  });

  it("formats in the interface language", () => {
    const a = { building: "3", entrance: "2", room: "1801" };
    expect(formatAddress(a)).toBe("3栋2单元1801室");
    expect(formatAddress({ ...a, entrance: null })).toBe("3栋1801室");
    setLang("en", null);
    expect(formatAddress(a)).toBe("Bldg 3, Entrance 2, Room 1801");
    expect(displayAddress("3-2-1801")).toBe("Bldg 3, Entrance 2, Room 1801");
    expect(displayAddress("Plant room B1")).toBe("Plant room B1");
    expect(displayAddress(null)).toBe("");
  });

  it("reads the floor from the room number and names basements", () => {
    expect(floorOfRoom("1801")).toBe(18);
    expect(floorOfRoom("302")).toBe(3);
    expect(floorName(18)).toBe("18层");
    expect(floorName(-2)).toBe("地下2层");
  });
});
