import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DataTable } from "./DataTable";
import { Panel } from "./States";

afterEach(cleanup);

const base = { data: undefined as number[] | undefined, error: undefined as string | undefined, loading: false, reload: () => {} };

describe("Panel", () => {
  it("says it is loading before data arrives", () => {
    render(<Panel title="Spend" polled={{ ...base, loading: true }}>{() => <p>data</p>}</Panel>);
    expect(screen.getByRole("status").textContent).toBe("Loading spend…");
  });
  it("shows the error with a retry button that reloads", () => {
    const reload = vi.fn();
    render(<Panel title="Spend" polled={{ ...base, error: "500 boom", reload }}>{() => <p>data</p>}</Panel>);
    expect(screen.getByRole("alert").textContent).toContain("500 boom");
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(reload).toHaveBeenCalledOnce();
  });
  it("shows the empty message when the data is empty, and the data otherwise", () => {
    const { rerender } = render(
      <Panel title="Spend" polled={{ ...base, data: [] }} isEmpty={(d) => d.length === 0} empty="No spend yet.">
        {(d) => <p>{d.length} days</p>}
      </Panel>,
    );
    expect(screen.getByText("No spend yet.")).toBeTruthy();
    rerender(
      <Panel title="Spend" polled={{ ...base, data: [1, 2] }} isEmpty={(d) => d.length === 0} empty="No spend yet.">
        {(d) => <p>{d.length} days</p>}
      </Panel>,
    );
    expect(screen.getByText("2 days")).toBeTruthy();
  });
});

describe("DataTable", () => {
  it("renders a header per column and formatted cells", () => {
    render(<DataTable caption="Top jobs" columns={["job", "list_cost"]} rows={[{ job: "etl", list_cost: 1234.5 }]} />);
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["job", "list cost"]);
    expect(screen.getByRole("cell", { name: "1,234.5" })).toBeTruthy();
  });
});
