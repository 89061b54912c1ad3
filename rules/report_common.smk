# Figure lists and output helpers of the report rules (rules/report.smk).

REPORT_3D = ["splits", "classes", "lengths", "persons", "rejects"]
REPORT_2D = ["splits", "scores", "rejects", "pck", "pck_examples"]


def report_outputs(datasets):
    files = [f"results/{ds}/report/3d_{n}.png" for ds in datasets for n in REPORT_3D]
    if NTU.get("videos"):
        files += [
            f"results/{ds}/report/2d_{n}.png" for ds in datasets for n in REPORT_2D
        ]
    return files


def report_png(dim, name, subcategory):
    return report(
        f"results/{{ds}}/report/{dim}_{name}.png",
        caption=f"../report/{dim}_{name}.rst",
        category="{ds}",
        subcategory=subcategory,
    )
