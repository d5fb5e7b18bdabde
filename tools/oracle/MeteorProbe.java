// Asks the classes inside meteor-1.5.jar directly, one UTF-8 line in, one line out:
//   java -cp meteor-1.5.jar MeteorProbe.java norm  < lines   (Normalizer, English, punctuation kept,
//                                                             then lower-cased: what `-norm` scores)
//   java -cp meteor-1.5.jar MeteorProbe.java stem  < words   (Snowball englishStemmer)
// Used by meteor_oracle.py to write the normalizer and stemmer fixtures.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

public class MeteorProbe {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    org.tartarus.snowball.ext.englishStemmer stemmer = new org.tartarus.snowball.ext.englishStemmer();
    String line;
    while ((line = in.readLine()) != null) {
      if (args[0].equals("norm")) {
        out.println(edu.cmu.meteor.util.Normalizer.normalizeLine(line, 0, true).toLowerCase());
      } else {
        stemmer.setCurrent(line);
        stemmer.stem();
        out.println(stemmer.getCurrent());
      }
    }
    out.flush();
  }
}
