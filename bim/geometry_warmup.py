"""A tiny model tessellated by a spare geometry worker while it waits for its job.

A process's first tessellation is slower than the next by tens of milliseconds (PCERT Hvac's
0.27 s of kernel time took 0.30 s in a fresh worker): the kernel's code is paged in and its
allocators grow on first use. A spare waits idle before its job anyway, so it pays that there,
on the kinds of geometry the shared files hold: a triangulated face set with a style, and an
extruded wall with an opening cut from it (the boolean path).
"""

from __future__ import annotations

import ifcopenshell

from bim.geometry import tessellate

MODEL = """ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('warm-up'),'2;1');
FILE_NAME('warm-up.ifc','',(''),(''),'','','');
FILE_SCHEMA(('IFC4'));
ENDSEC;
DATA;
#1=IFCPROJECT('26lLBOpFDEPA$9XLTqqfdi',$,'warm-up',$,$,$,$,(#5),#2);
#2=IFCUNITASSIGNMENT((#3));
#3=IFCSIUNIT(*,.LENGTHUNIT.,$,.METRE.);
#4=IFCCARTESIANPOINT((0.,0.,0.));
#5=IFCGEOMETRICREPRESENTATIONCONTEXT($,'Model',3,1.E-05,#6,$);
#6=IFCAXIS2PLACEMENT3D(#4,$,$);
#7=IFCGEOMETRICREPRESENTATIONSUBCONTEXT('Body','Model',*,*,*,*,#5,$,.MODEL_VIEW.,$);
#8=IFCLOCALPLACEMENT($,#6);
#9=IFCDIRECTION((0.,0.,1.));
#10=IFCRECTANGLEPROFILEDEF(.AREA.,$,$,4.,0.2);
#11=IFCEXTRUDEDAREASOLID(#10,#6,#9,3.);
#12=IFCSHAPEREPRESENTATION(#7,'Body','SweptSolid',(#11));
#13=IFCPRODUCTDEFINITIONSHAPE($,$,(#12));
#14=IFCWALL('3rvTd_9ZnBGA9Gybolg7FF',$,'wall',$,$,#8,#13,$,$);
#15=IFCRECTANGLEPROFILEDEF(.AREA.,$,$,1.,1.);
#16=IFCCARTESIANPOINT((0.,0.,1.));
#17=IFCAXIS2PLACEMENT3D(#16,$,$);
#18=IFCEXTRUDEDAREASOLID(#15,#17,#9,1.);
#19=IFCSHAPEREPRESENTATION(#7,'Body','SweptSolid',(#18));
#20=IFCPRODUCTDEFINITIONSHAPE($,$,(#19));
#21=IFCOPENINGELEMENT('0cbQUT5Xz5m9UjQeVAbaBu',$,'opening',$,$,#8,#20,$,$);
#22=IFCRELVOIDSELEMENT('0Ay$zXey58CeJFOYSp4qnN',$,$,$,#14,#21);
#23=IFCCARTESIANPOINTLIST3D(((0.,0.,0.),(1.,0.,0.),(0.,1.,0.),(0.,0.,1.)),$);
#24=IFCTRIANGULATEDFACESET(#23,$,.T.,((1,3,2),(1,2,4),(1,4,3),(2,3,4)),$);
#25=IFCCOLOURRGB($,0.6,0.4,0.2);
#26=IFCSURFACESTYLESHADING(#25,0.);
#27=IFCSURFACESTYLE($,.BOTH.,(#26));
#28=IFCSTYLEDITEM(#24,(#27),$);
#29=IFCSHAPEREPRESENTATION(#7,'Body','Tessellation',(#24));
#30=IFCPRODUCTDEFINITIONSHAPE($,$,(#29));
#31=IFCFURNITURE('37qnuDvGH5LOthK517DyHI',$,'box',$,$,#8,#30,$,$);
ENDSEC;
END-ISO-10303-21;
"""


def warm_up() -> int:
    """Tessellate the tiny model; return how many elements it drew (the wall and the box)."""
    return len(tessellate(ifcopenshell.file.from_string(MODEL)).nodes)
